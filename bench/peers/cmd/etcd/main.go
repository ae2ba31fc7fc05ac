// Command etcd is etcd's server, built from the Go module proxy at the version
// this module pins, for the side-by-side benchmark (bench/peers).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
