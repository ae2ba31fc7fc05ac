package pki

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseIdentity(t *testing.T) {
	for _, c := range []struct {
		in         string
		region     string
		node, want string // want: substring of the error; "" for success
	}{
		{in: "gridcrm://32/3207/320722/dh1", region: "320722", node: "dh1"},
		{in: "gridcrm://32/3207/hy2", region: "3207", node: "hy2"},
		{in: "gridcrm://32/gy1", region: "32", node: "gy1"},
		{in: "gridcrm://32/3207/320722/320722-1", region: "320722", node: "320722-1"},
		{in: "gridcrm://32/3207/320722/n_1.a-b", region: "320722", node: "n_1.a-b"},
		{in: "gridcrm://32/3207/320722", want: "but no node"},
		{in: "gridcrm://32", want: "but no node"},
		{in: "gridcrm://", want: "empty path element"},
		{in: "", want: "not a gridcrm identity"},
		{in: "https://32/3207/320722/dh1", want: "not a gridcrm identity"},
		{in: "GRIDCRM://32/gy1", want: "not a gridcrm identity"},
		{in: "gridcrm:32/gy1", want: "not a gridcrm identity"},
		{in: "gridcrm://32/3207/320722/dh1/", want: "empty path element"},
		{in: "gridcrm://32//3207/dh1", want: "empty path element"},
		{in: "gridcrm://32/3208/320722/dh1", want: "does not follow 3208"},
		{in: "gridcrm://32/320722/dh1", want: "does not follow 32"},
		{in: "gridcrm://33/3207/dh1", want: "does not follow 33"},
		{in: "gridcrm://3207/320722/dh1", want: "the host must be the province"},
		{in: "gridcrm://dh1", want: "no province"},
		{in: "gridcrm://32/dh1/3207", want: "only the last element may be the node id"},
		{in: "gridcrm://32/3207/320722/32072201/dh1", want: "has 8 digits"},
		{in: "gridcrm://32/3200/dh1", want: "city digits are 00"},
		{in: "gridcrm://02/dh1", want: "starts with 0"},
		{in: "gridcrm://32:443/gy1", want: `holds ":"`},
		{in: "gridcrm://user@32/gy1", want: `holds "@"`},
		{in: "gridcrm://32/gy1?x=1", want: `holds "?"`},
		{in: "gridcrm://32/gy1#f", want: `holds "#"`},
		{in: "gridcrm://32/3207%2F320722/dh1", want: `holds "%"`},
		{in: "gridcrm://32/3207/../dh1", want: "only the last element"},
		{in: "gridcrm://32/.dh1", want: "starting with a letter or digit"},
		{in: "gridcrm://32/d h1", want: `holds " "`},
		{in: "gridcrm://32/" + strings.Repeat("a", 65), want: "at most 64"},
		{in: "gridcrm://32/" + strings.Repeat("a", 300), want: "longer than 256"},
	} {
		id, err := ParseIdentity(c.in)
		if c.want == "" {
			if err != nil || string(id.Region) != c.region || id.Node != c.node {
				t.Errorf("ParseIdentity(%q) = %+v, %v; want region %s node %s", c.in, id, err, c.region, c.node)
			}
			if got := id.String(); got != c.in {
				t.Errorf("ParseIdentity(%q).String() = %q", c.in, got)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalidIdentity) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseIdentity(%q) = %+v, %v; want ErrInvalidIdentity containing %q", c.in, id, err, c.want)
		}
	}
}

func TestParseScope(t *testing.T) {
	for in, want := range map[string]string{"gridcrm://32": "32", "gridcrm://32/3207": "3207", "gridcrm://32/3207/320722": "320722"} {
		if r, err := parseScope(in); err != nil || string(r) != want {
			t.Errorf("parseScope(%q) = %q, %v; want %s", in, r, err, want)
		}
	}
	if _, err := parseScope("gridcrm://32/gy1"); err == nil || !strings.Contains(err.Error(), "names only its region") {
		t.Errorf("a node URI as a CA scope: %v", err)
	}
}

func TestNewIdentity(t *testing.T) {
	for _, c := range []struct{ region, node, want string }{
		{"320722", "dh1", ""},
		{" 320722 ", "dh1", ""}, // ParseRegion trims
		{"320722", "", "node id is empty"},
		{"320722", "123", "digits only"},
		{"320722", "-a", "starting with a letter or digit"},
		{"320722", "a/b", "may hold only"},
		{"3207220", "dh1", "has 7 digits"},
		{"", "dh1", "region is empty"},
	} {
		id, err := NewIdentity(c.region, c.node)
		if c.want == "" {
			if err != nil || !id.Valid() {
				t.Errorf("NewIdentity(%q, %q) = %v, %v", c.region, c.node, id, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidIdentity) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewIdentity(%q, %q): %v; want %q", c.region, c.node, err, c.want)
		}
	}
	if s := (Identity{}).String(); !strings.Contains(s, "invalid identity") {
		t.Errorf("zero identity prints %q", s)
	}
}

func TestIdentityOf(t *testing.T) {
	root := newTestRoot(t, "32")
	is := issue(t, root.ca, "320722", "dh1")
	if id, err := IdentityOf(is.Cert); err != nil || id.String() != "gridcrm://32/3207/320722/dh1" {
		t.Fatalf("IdentityOf = %v, %v", id, err)
	}
	if _, err := IdentityOf(root.ca.Cert); err == nil || !strings.Contains(err.Error(), "is a CA") {
		t.Errorf("IdentityOf(root): %v", err)
	}
	two := *is.Cert
	two.URIs = append(append(two.URIs[:0:0], two.URIs...), mustURL("gridcrm://32/3207/320722/dh2"))
	if _, err := IdentityOf(&two); err == nil || !strings.Contains(err.Error(), "2 gridcrm:// URI SANs") {
		t.Errorf("two identities: %v", err)
	}
	none := *is.Cert
	none.URIs = []*url.URL{mustURL("spiffe://x/y")}
	if _, err := IdentityOf(&none); err == nil || !strings.Contains(err.Error(), "no gridcrm:// URI SAN") {
		t.Errorf("no identity: %v", err)
	}
}
