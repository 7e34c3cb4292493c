package server

import (
	"net/http"
	"strings"
)

// Server serves static files.
type Server struct {
	root string
}

// NewServer returns a server for root.
func NewServer(root string) *Server {
	return &Server{root: strings.TrimSuffix(root, "/")}
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.ServeFile(w, r, s.root+r.URL.Path)
}
