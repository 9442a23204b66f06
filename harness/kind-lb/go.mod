module kubepci.local/kind-lb

go 1.22
