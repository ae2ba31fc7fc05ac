package pki

import (
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// The fuzz targets cover every decoder this package owns. Their seeds run
// as ordinary tests under `go test`; fuzz with e.g.
//
//	go test ./pki/ -run '^$' -fuzz FuzzParseIdentity -fuzztime 60s

func FuzzParseIdentity(f *testing.F) {
	for _, s := range []string{
		"gridcrm://32/3207/320722/dh1", "gridcrm://32/gy1", "gridcrm://32/3207/hy-2.a_b",
		"gridcrm://32", "gridcrm://32/3207", "gridcrm://32/3207/320722/320722-1",
		"gridcrm://32/3208/320722/dh1", "gridcrm://32//dh1", "gridcrm://32/dh1/", "gridcrm://32:1/dh1",
		"gridcrm://32/%64h1", "gridcrm://32/123", "GRIDCRM://32/gy1", "gridcrm://", "", "\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentity(s)
		if err != nil {
			if id != (Identity{}) {
				t.Fatalf("error %v with a non-zero identity %+v", err, id)
			}
			return
		}
		if !id.Valid() {
			t.Fatalf("ParseIdentity(%q) accepted an invalid identity %+v", s, id)
		}
		if id.String() != s {
			t.Fatalf("ParseIdentity(%q) is not canonical: prints %q", s, id.String())
		}
		if again, err := ParseIdentity(id.URI().String()); err != nil || again != id {
			t.Fatalf("URI round trip of %q: %+v, %v", s, again, err)
		}
		if !id.Region.Valid() || !id.Region.Contains(id.Region) {
			t.Fatalf("region %q", id.Region)
		}
	})
}

// fuzzMaterial returns PEM seeds: a node certificate with its chain, its
// key, a list, and a CA certificate.
func fuzzMaterial(f *testing.F) (certs, key, crl []byte) {
	root, err := NewRoot("32", RootOptions{})
	if err != nil {
		f.Fatal(err)
	}
	inter, err := root.NewIntermediate("3207", CAOptions{})
	if err != nil {
		f.Fatal(err)
	}
	id, _ := NewIdentity("320722", "dh1")
	is, err := inter.Issue(NodeRequest{Identity: id, DNS: []string{"dh1.internal"}})
	if err != nil {
		f.Fatal(err)
	}
	rl, err := root.SignCRL(nil, []*big.Int{big.NewInt(99)}, CRLOptions{})
	if err != nil {
		f.Fatal(err)
	}
	key, err = encodeKey(is.Key)
	if err != nil {
		f.Fatal(err)
	}
	return encodeCerts(is.Cert, inter.Cert, root.Cert), key, encodeCRL(rl)
}

func FuzzParseCertificatesPEM(f *testing.F) {
	certs, key, crl := fuzzMaterial(f)
	f.Add(certs)
	f.Add(key)
	f.Add(crl)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ParseCertificatesPEM(b)
		if err != nil {
			if cs != nil {
				t.Fatal("certificates returned with an error")
			}
			return
		}
		if len(cs) == 0 {
			t.Fatal("no certificates and no error")
		}
		for _, c := range cs {
			_, _ = IdentityOf(c) // must not panic on any parsed certificate
			_, _ = scopeOf(c)
		}
		_, _ = Describe(b)
	})
}

func FuzzParsePrivateKeyPEM(f *testing.F) {
	certs, key, _ := fuzzMaterial(f)
	f.Add(key)
	f.Add(certs)
	f.Add([]byte(pemString("PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00})))
	f.Add([]byte(pemString("EC PRIVATE KEY", []byte{1, 2, 3})))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateKeyPEM(b)
		if err == nil && (k == nil || k.Curve.Params().Name != "P-256") {
			t.Fatalf("accepted %v", k)
		}
	})
}

func FuzzParseCRLPEM(f *testing.F) {
	_, _, crl := fuzzMaterial(f)
	f.Add(crl)
	f.Add([]byte(pemString("X509 CRL", []byte{0x30, 0x00})))
	f.Add([]byte("garbage"))
	root, err := NewRoot("32", RootOptions{})
	if err != nil {
		f.Fatal(err)
	}
	tr, err := NewTrust(root.Cert)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rl, err := ParseCRLPEM(b)
		if err != nil {
			return
		}
		if rl.Number == nil {
			t.Fatal("accepted a list without a number")
		}
		// Not signed by this root's key: never installed.
		if tr.UpdateCRL(rl) == nil {
			t.Fatal("installed a list the root did not sign")
		}
		_, _ = Describe(b)
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"version":1,"certs":[{"serial":"AB","kind":"node","subject":"gridcrm://32/3207/320722/dh1","issuer":"32","not_after":"2030-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"certs":[{"serial":"1","kind":"ca","subject":"gridcrm://32/3207","issuer":"32","not_after":"2030-01-01T00:00:00Z","revoked_at":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"certs":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := ParseIndex(b)
		if err != nil {
			return
		}
		for _, r := range ix.Certs {
			if _, err := ParseSerial(r.Serial); err != nil {
				t.Fatalf("accepted serial %q", r.Serial)
			}
			_ = r.NotAfter.Before(time.Now())
		}
	})
}

func pemString(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
