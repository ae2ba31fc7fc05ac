package api

import "strings"

// generatedOnly are the collections whose records only a generating route
// writes: the generic create, replace, patch and import routes are not
// served for them (a client that tries gets a 405 naming the route to use).
// Delete stays, so that a region can drop a bulletin and generate it again.
var generatedOnly = map[string]string{
	"bulletins": "POST /api/v1/bulletins/generate",
}

// crudWritable reports whether coll gets the generic write routes.
func crudWritable(coll string) bool {
	_, generated := generatedOnly[coll]
	return !generated
}

// generatedHint answers, for a request path under a generated-only
// collection, the sentence naming the route that writes it, or "".
func generatedHint(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return ""
	}
	coll, _, _ := strings.Cut(rest, "/")
	if route, ok := generatedOnly[coll]; ok {
		return "; " + coll + " are written only by " + route
	}
	return ""
}
