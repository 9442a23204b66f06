// Parse oracle for etcd: reads one {"args": [...]} on stdin and parses each argv with the
// flag set etcdmain/config.go newConfig builds (embed.Config.AddFlags plus its own
// flags), printing what Go's flag package set, the leftover arguments and the error.
package main

import (
	"encoding/json"
	goflag "flag"
	"io"
	"os"

	"go.etcd.io/etcd/pkg/v3/flags"
	"go.etcd.io/etcd/server/v3/embed"
)

type query struct {
	Args []string `json:"args"`
}

type answer struct {
	Set        map[string]string `json:"set,omitempty"`
	Positional []string          `json:"positional,omitempty"`
	Error      string            `json:"error,omitempty"`
}

func flagSet() *goflag.FlagSet {
	fs := goflag.NewFlagSet("etcd", goflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	embed.NewConfig().AddFlags(fs)
	var configFile string
	var printVersion bool
	fs.StringVar(&configFile, "config-file", "", "")
	fs.Var(flags.NewSelectiveStringValue("exit", "proxy"), "discovery-fallback", "")
	fs.Var(flags.NewSelectiveStringValue(embed.ClusterStateFlagNew, embed.ClusterStateFlagExisting), "initial-cluster-state", "")
	fs.Var(flags.NewSelectiveStringsValue("not-yet", "write-only", "write-only-drop-data", "gone"), "v2-deprecation", "")
	fs.BoolVar(&printVersion, "version", false, "")
	for _, f := range []string{"cluster-active-size", "cluster-remove-delay", "cluster-sync-interval", "config", "force", "max-result-buffer", "max-retry-attempts", "peer-heartbeat-interval", "peer-election-timeout", "retry-interval", "snapshot", "v", "vv", "test.coverprofile", "test.outputdir"} {
		fs.Var(&flags.IgnoredFlag{Name: f}, f, "")
	}
	return fs
}

func main() {
	// One query per process, as the component parses its argv once.
	var q query
	if err := json.NewDecoder(os.Stdin).Decode(&q); err != nil {
		panic(err)
	}
	a := answer{Set: map[string]string{}}
	fs := flagSet()
	if err := fs.Parse(q.Args); err != nil {
		a.Error = err.Error()
	}
	fs.Visit(func(f *goflag.Flag) { a.Set[f.Name] = f.Value.String() })
	a.Positional = fs.Args()
	if err := json.NewEncoder(os.Stdout).Encode(a); err != nil {
		panic(err)
	}
}
