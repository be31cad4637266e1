package ecrproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/safesocket"
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
	// with HELLO carrying this key (E_AUTH and close otherwise). It has at
	// least MinKeyLen characters. A listener with a key is a remote
	// listener: Remote limits it.
	SharedKey string
	// Remote limits the connections of a listener with a SharedKey.
	Remote RemoteOptions
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
	if cfg.SharedKey != "" && len(cfg.SharedKey) < MinKeyLen {
		return nil, ErrKeyTooShort
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Address)
	if err != nil {
		return nil, err
	}
	if cfg.SharedKey != "" {
		return RequireKeyWith(ln, cfg.SharedKey, cfg.Remote), nil
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

// MinKeyLen is the shortest shared key Listen accepts: a key is the only
// thing between a remote peer and the payment commands.
const MinKeyLen = 16

// Defaults of RemoteOptions.
const (
	DefaultRemoteMaxConns  = 16               // per remote listener
	DefaultMaxConnsPerPeer = 4                // per peer IP, over all remote listeners
	DefaultHelloTimeout    = 10 * time.Second // to send HELLO with the key
)

// RemoteOptions limits the connections of a remote listener (one with a
// shared key). Zero values mean the defaults; a negative HelloTimeout
// disables it. Connections over a cap are closed at once, unanswered.
type RemoteOptions struct {
	// MaxConns caps this listener's connections (DefaultRemoteMaxConns).
	// Remote connections together never take the slots of MaxConns that
	// ServerOptions.LocalReserve keeps for local listeners.
	MaxConns int
	// MaxConnsPerPeer caps the connections from one IP address over all
	// remote listeners (DefaultMaxConnsPerPeer).
	MaxConnsPerPeer int
	// HelloTimeout is how long a new connection has to send its first
	// message, HELLO with the key (DefaultHelloTimeout); it is closed
	// otherwise.
	HelloTimeout time.Duration
}

func (o RemoteOptions) withDefaults() RemoteOptions {
	o.MaxConns = positive(o.MaxConns, DefaultRemoteMaxConns)
	o.MaxConnsPerPeer = positive(o.MaxConnsPerPeer, DefaultMaxConnsPerPeer)
	o.HelloTimeout = orDefault(o.HelloTimeout, DefaultHelloTimeout)
	return o
}

// RequireKey wraps ln so that Server.Serve treats it as a remote listener
// with default RemoteOptions: RequireKeyWith(ln, key, RemoteOptions{}).
func RequireKey(ln net.Listener, key string) net.Listener {
	return RequireKeyWith(ln, key, RemoteOptions{})
}

// RequireKeyWith wraps ln so that Server.Serve treats it as a remote
// listener: every connection must open with HELLO carrying key, within
// opts.HelloTimeout, and opts caps its connections. The server decides
// this by the listener, never by the peer's address. Listen does this for
// tcp listeners with a SharedKey. An empty key returns ln unchanged.
func RequireKeyWith(ln net.Listener, key string, opts RemoteOptions) net.Listener {
	if key == "" {
		return ln
	}
	return &keyListener{Listener: ln, key: key, opts: opts.withDefaults()}
}

type keyListener struct {
	net.Listener
	key  string
	opts RemoteOptions
}

// pipePath turns a bare pipe name into a full pipe path.
func pipePath(addr string) string {
	if addr == "" {
		return DefaultPipeName
	}
	return safesocket.PipePath(addr)
}

// safesocketConfig is the local socket or pipe of a unix or pipe listener;
// pipe buffers hold one message of the largest size.
func safesocketConfig(path string, mode os.FileMode, group string) safesocket.Config {
	return safesocket.Config{Path: path, Mode: mode, Group: group, PipeBuffer: DefaultMaxMessageSize}
}

// localListen opens a unix socket or pipe; a live server on it is
// ErrAddrInUse.
func localListen(ctx context.Context, cfg safesocket.Config) (net.Listener, error) {
	ln, err := safesocket.Listen(ctx, cfg)
	var inUse *safesocket.InUseError
	if errors.As(err, &inUse) {
		return nil, ErrAddrInUse
	}
	return ln, err
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
