// Parse oracle: reads one {"component": ..., "args": [...]} on stdin and parses each argv
// with the component's real flag set (its cobra command's Flags(), normalized as
// component-base cli.Run does), printing what pflag set, the leftover arguments and the
// error. Also answers time.ParseDuration and encoding/csv questions.
package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	cm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

type query struct {
	Component string   `json:"component,omitempty"`
	Args      []string `json:"args,omitempty"`
	Duration  *string  `json:"duration,omitempty"`
	CSV       *string  `json:"csv,omitempty"`
}

type answer struct {
	Set        map[string]string `json:"set,omitempty"`
	Positional []string          `json:"positional,omitempty"`
	Error      string            `json:"error,omitempty"`
	Nanos      *int64            `json:"nanos,omitempty"`
	Fields     []string          `json:"fields,omitempty"`
}

func flagSet(component string) *pflag.FlagSet {
	switch component {
	case "kube-apiserver":
		return apiserver.NewAPIServerCommand().Flags()
	case "kube-controller-manager":
		return cm.NewControllerManagerCommand().Flags()
	case "kube-scheduler":
		return scheduler.NewSchedulerCommand().Flags()
	}
	panic(component)
}

func main() {
	// One query per process: the commands set up process-wide state (signal handling,
	// global flags) that must not be shared between parses.
	var q query
	if err := json.NewDecoder(os.Stdin).Decode(&q); err != nil {
		panic(err)
	}
	var a answer
	switch {
	case q.Duration != nil:
		d, err := time.ParseDuration(*q.Duration)
		if err != nil {
			a.Error = err.Error()
		} else {
			n := int64(d)
			a.Nanos = &n
		}
	case q.CSV != nil:
		a.Fields = []string{}
		if *q.CSV != "" {
			fields, err := csv.NewReader(strings.NewReader(*q.CSV)).Read()
			if err != nil {
				a.Error = err.Error()
			} else {
				a.Fields = fields
			}
		}
	default:
		fs := flagSet(q.Component)
		fs.SetNormalizeFunc(cliflag.WordSepNormalizeFunc)
		fs.SetOutput(new(strings.Builder))
		fs.Init(q.Component, pflag.ContinueOnError)
		if err := fs.Parse(q.Args); err != nil {
			a.Error = err.Error()
		}
		a.Set = map[string]string{}
		fs.Visit(func(f *pflag.Flag) { a.Set[f.Name] = f.Value.String() })
		a.Positional = fs.Args()
	}
	if err := json.NewEncoder(os.Stdout).Encode(a); err != nil {
		panic(err)
	}
}
