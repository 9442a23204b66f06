module kubepci.local/pause

go 1.22
