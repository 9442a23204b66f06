// Dumps every command-line flag of kube-apiserver, kube-controller-manager, kube-scheduler
// (pflag, through their cobra commands) and etcd (Go flag, embed.Config.AddFlags plus the
// flags etcdmain/config.go newConfig adds) as JSON: name, Go value type, pflag type name,
// default, NoOptDefVal, whether boolean.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"

	"github.com/spf13/pflag"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	cm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
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

func inner(v any) any {
	// cliflag.NewTracker wraps a value; report the wrapped value's type.
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Struct {
		s := rv.Elem()
		switch s.Type().Name() {
		case "TrackerValue":
			f := s.FieldByName("value")
			return reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem().Interface()
		case "BoolTrackerValue":
			f := s.FieldByName("boolValue")
			return reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem().Interface()
		}
	}
	return v
}

func pflags(fs *pflag.FlagSet) []flagInfo {
	var out []flagInfo
	fs.VisitAll(func(f *pflag.Flag) {
		_, isBool := f.Value.(interface{ IsBoolFlag() bool })
		out = append(out, flagInfo{
			Name: f.Name, Shorthand: f.Shorthand, GoType: fmt.Sprintf("%T", inner(f.Value)),
			Type: f.Value.Type(), Default: f.DefValue, NoOpt: f.NoOptDefVal, Bool: isBool,
			Deprecated: f.Deprecated != "", Hidden: f.Hidden,
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func main() {
	all := map[string][]flagInfo{
		"kube-apiserver":          pflags(apiserver.NewAPIServerCommand().Flags()),
		"kube-controller-manager": pflags(cm.NewControllerManagerCommand().Flags()),
		"kube-scheduler":          pflags(scheduler.NewSchedulerCommand().Flags()),
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(all); err != nil {
		panic(err)
	}
}
