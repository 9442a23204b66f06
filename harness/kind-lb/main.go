// Command kind-lb stands in for envoy in kind's external load balancer container, which
// fronts the API servers of a cluster with several control-plane nodes. kind runs
// `envoy -c /home/envoy/envoy.yaml` there and rewrites the listener (lds.yaml) and the
// backends (cds.yaml) as file-based xDS (sigs.k8s.io/kind pkg/cluster/internal/loadbalancer).
// envoy cannot be built or pulled here, so this reads the same two files, re-reads them
// when they change, health-checks each backend's /healthz over TLS as kind's cluster
// config asks, and relays TCP connections round-robin to the healthy ones. It is installed
// as `envoy` only in the image harness/kind_image.py builds on a machine without a
// registry; a user's kind runs the real envoy.
package main

import (
	"crypto/tls"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	portValue = regexp.MustCompile(`port_value:\s*(\d+)`)
	endpoint  = regexp.MustCompile(`(?s)socket_address:\s*address:\s*"?([^\s"]+)"?\s*port_value:\s*(\d+)`)
)

type balancer struct {
	mu       sync.Mutex
	backends []string
	healthy  map[string]bool
	next     atomic.Uint64
}

func (b *balancer) pick() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var up []string
	for _, addr := range b.backends {
		if b.healthy[addr] {
			up = append(up, addr)
		}
	}
	if len(up) == 0 {
		up = append(up, b.backends...) // none known healthy yet: try them all
	}
	if len(up) == 0 {
		return nil
	}
	start := int(b.next.Add(1) % uint64(len(up)))
	return append(up[start:], up[:start]...)
}

func (b *balancer) setBackends(addrs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = addrs
	if b.healthy == nil {
		b.healthy = map[string]bool{}
	}
}

func (b *balancer) checkHealth() {
	client := &http.Client{
		Timeout:   3 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	for {
		b.mu.Lock()
		addrs := append([]string(nil), b.backends...)
		b.mu.Unlock()
		for _, addr := range addrs {
			resp, err := client.Get("https://" + addr + "/healthz")
			ok := err == nil && resp.StatusCode == http.StatusOK
			if resp != nil {
				resp.Body.Close()
			}
			b.mu.Lock()
			b.healthy[addr] = ok
			b.mu.Unlock()
		}
		time.Sleep(2 * time.Second)
	}
}

func relay(client net.Conn, b *balancer) {
	defer client.Close()
	for _, addr := range b.pick() {
		upstream, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			continue
		}
		defer upstream.Close()
		done := make(chan struct{}, 2)
		go func() { io.Copy(upstream, client); done <- struct{}{} }()
		go func() { io.Copy(client, upstream); done <- struct{}{} }()
		<-done
		return
	}
}

func readFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(data)
}

func main() {
	config := flag.String("c", "/home/envoy/envoy.yaml", "bootstrap config (its directory holds lds.yaml and cds.yaml)")
	flag.Parse()
	dir := filepath.Dir(*config)
	lds, cds := filepath.Join(dir, "lds.yaml"), filepath.Join(dir, "cds.yaml")
	b := &balancer{}
	go b.checkHealth()

	var listener net.Listener
	lastLDS, lastCDS := "", ""
	for {
		if text := readFile(cds); text != lastCDS {
			lastCDS = text
			var addrs []string
			for _, m := range endpoint.FindAllStringSubmatch(text, -1) {
				addrs = append(addrs, net.JoinHostPort(m[1], m[2]))
			}
			b.setBackends(addrs)
			log.Printf("backends: %v", addrs)
		}
		if text := readFile(lds); text != lastLDS {
			lastLDS = text
			if m := portValue.FindStringSubmatch(text); m != nil {
				port, _ := strconv.Atoi(m[1])
				if listener != nil {
					listener.Close()
				}
				var err error
				listener, err = net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
				if err != nil {
					log.Fatalf("listen :%d: %v", port, err)
				}
				log.Printf("listening on :%d", port)
				go func(l net.Listener) {
					for {
						conn, err := l.Accept()
						if err != nil {
							return
						}
						go relay(conn, b)
					}
				}(listener)
			}
		}
		time.Sleep(time.Second)
	}
}
