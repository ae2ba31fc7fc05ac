package keyspace

// Customer search (crm/search.go): the grams of a customer's searchable
// fields and the prefixes of its 户号, each an entry with an empty value
// in an index part of its own, so that its keys are short:
//
//	x/_q/<gram>\x01<position>     text grams
//	x/_qa/<prefix>\x01<position>  户号 prefixes
//
// A position is the customer's region (3 bytes) then its id (16 bytes),
// as crm encodes them (a region's subtree is a prefix of its positions).
// A gram or prefix never holds \x01 (folded text has no control
// characters). SearchLayoutKey holds the version of this layout, so that
// a store (or a snapshot or backup) written with an older one is indexed
// again at start (crm.MigrateSearch). The first layout kept the entries
// under IndexScoped("customers", "_q" or "_qa", …).
const (
	SearchPrefix        = IndexPrefix + "_q/"  // text grams
	SearchAccountPrefix = IndexPrefix + "_qa/" // 户号 prefixes
	SearchLayoutKey     = MetaPrefix + "search"
)

// SearchGram is the prefix of the positions of text gram g: x/_q/<g>\x01.
func SearchGram(g string) string { return SearchPrefix + g + "\x01" }

// SearchAccount is the prefix of the positions of the customers whose 户号
// begins with p (p one of the indexed lengths): x/_qa/<p>\x01.
func SearchAccount(p string) string { return SearchAccountPrefix + p + "\x01" }
