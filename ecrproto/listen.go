package ecrproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// Transport defaults.
const (
	DefaultTCPAddress = "127.0.0.1:7420"
	DefaultUnixSocket = "/run/tillbridge/ecr.sock"
	DefaultPipeName   = `\\.\pipe\tillbridge-ecr`
	DefaultSocketMode = os.FileMode(0o660)
)

// Networks accepted by Listen and Dial.
const (
	NetworkTCP  = "tcp"
	NetworkUnix = "unix" // Linux (any non-Windows system)
	NetworkPipe = "pipe" // Windows named pipe
)

// ListenConfig says where and how to listen for ECR connections.
type ListenConfig struct {
	// Network is "tcp" (the default), "unix" or "pipe".
	Network string
	// Address is host:port for tcp (default DefaultTCPAddress), a socket
	// path for unix (default DefaultUnixSocket), or a pipe path or bare
	// name for pipe (default DefaultPipeName).
	Address string
	// AllowRemote permits a non-loopback tcp address; it also needs
	// SharedKey.
	AllowRemote bool
	// SharedKey, if set on a tcp listener, makes every connection start
	// with HELLO carrying this key (E_AUTH and close otherwise).
	SharedKey string
	// Mode is the unix socket's permission bits (default 0660).
	Mode os.FileMode
	// Group is who besides root/SYSTEM may connect: for unix a group name
	// or numeric gid that will own the socket; for pipe a group name or a
	// SID ("S-1-...") granted read/write on the pipe.
	Group string
}

// Listen opens a listener for Server.Serve as cfg says. Errors are
// *ListenError, wrapping ErrRemoteNotAllowed, ErrAddrInUse,
// errors.ErrUnsupported (a network this OS lacks) or the system error.
func Listen(ctx context.Context, cfg ListenConfig) (net.Listener, error) {
	network := cfg.Network
	if network == "" {
		network = NetworkTCP
	}
	var (
		ln  net.Listener
		err error
	)
	switch network {
	case NetworkTCP:
		ln, err = listenTCP(ctx, &cfg)
	case NetworkUnix:
		ln, err = listenUnix(ctx, &cfg)
	case NetworkPipe:
		ln, err = listenPipe(ctx, &cfg)
	default:
		err = fmt.Errorf("unknown network %q: %w", network, errors.ErrUnsupported)
	}
	if err != nil {
		return nil, &ListenError{Network: network, Address: cfg.Address, Err: err}
	}
	return ln, nil
}

func listenTCP(ctx context.Context, cfg *ListenConfig) (net.Listener, error) {
	if cfg.Address == "" {
		cfg.Address = DefaultTCPAddress
	}
	if !isLoopback(cfg.Address) && (!cfg.AllowRemote || cfg.SharedKey == "") {
		return nil, ErrRemoteNotAllowed
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Address)
	if err != nil {
		return nil, err
	}
	if cfg.SharedKey != "" {
		return RequireKey(ln, cfg.SharedKey), nil
	}
	return ln, nil
}

// isLoopback reports whether a host:port names only loopback: "localhost"
// or a loopback IP. An empty host (all interfaces) is not loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RequireKey wraps ln so that Server.Serve requires every connection from
// it to open with HELLO carrying key. Listen does this for tcp listeners
// with a SharedKey. An empty key returns ln unchanged.
func RequireKey(ln net.Listener, key string) net.Listener {
	if key == "" {
		return ln
	}
	return &keyListener{Listener: ln, key: key}
}

type keyListener struct {
	net.Listener
	key string
}

func requiredKey(ln net.Listener) string {
	if kl, ok := ln.(*keyListener); ok {
		return kl.key
	}
	return ""
}

// pipeSDDL is the named pipe's security descriptor: full control for
// SYSTEM and Administrators, read/write for the given SID (if any), no one
// else, and no inherited entries.
func pipeSDDL(sid string) string {
	sddl := "D:P(A;;GA;;;SY)(A;;GA;;;BA)"
	if sid != "" {
		sddl += "(A;;GRGW;;;" + sid + ")"
	}
	return sddl
}

// pipePath turns a bare pipe name into a full pipe path.
func pipePath(addr string) string {
	switch {
	case addr == "":
		return DefaultPipeName
	case strings.HasPrefix(addr, `\\`):
		return addr
	}
	return `\\.\pipe\` + addr
}

// DialConn opens a raw connection to an ECR server. network is "tcp",
// "unix" or "pipe" (empty means tcp); an empty addr means the network's
// default (see ListenConfig). Dial uses it and wraps a Client around it.
func DialConn(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "", NetworkTCP:
		if addr == "" {
			addr = DefaultTCPAddress
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	case NetworkUnix:
		if addr == "" {
			addr = DefaultUnixSocket
		}
		var d net.Dialer
		return d.DialContext(ctx, "unix", addr)
	case NetworkPipe:
		return dialPipe(ctx, pipePath(addr))
	}
	return nil, fmt.Errorf("ecrproto: dial: unknown network %q: %w", network, errors.ErrUnsupported)
}
