// Dumps every command-line flag of kube-apiserver, kube-controller-manager, kube-scheduler
// (pflag, through their cobra commands) and etcd (Go flag, embed.Config.AddFlags plus the
// flags etcdmain/config.go newConfig adds) as JSON: name, Go value type, pflag type name,
// default, NoOptDefVal, whether boolean.
package main

import (
	"encoding/json"
	goflag "flag"
	"fmt"
	"os"

	"go.etcd.io/etcd/pkg/v3/flags"
	"go.etcd.io/etcd/server/v3/embed"
)

type flagInfo struct {
	Name       string `json:"name"`
	Shorthand  string `json:"shorthand,omitempty"`
	GoType     string `json:"go_type"`
	Type       string `json:"type"`
	Default    string `json:"default"`
	NoOpt      string `json:"noopt,omitempty"`
	Bool       bool   `json:"bool"`
	Deprecated bool   `json:"deprecated,omitempty"`
	Hidden     bool   `json:"hidden,omitempty"`
}

func etcdFlags() []flagInfo {
	fs := goflag.NewFlagSet("etcd", goflag.ContinueOnError)
	cfg := embed.NewConfig()
	cfg.AddFlags(fs)
	// etcdmain/config.go newConfig: the flags it adds after embed.Config.AddFlags.
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
	var out []flagInfo
	fs.VisitAll(func(f *goflag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		out = append(out, flagInfo{
			Name: f.Name, GoType: fmt.Sprintf("%T", f.Value), Type: "",
			Default: f.DefValue, Bool: ok && b.IsBoolFlag(),
		})
	})
	return out
}

func main() {
	all := map[string][]flagInfo{
		"etcd":                    etcdFlags(),
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(all); err != nil {
		panic(err)
	}
}
