package shopca

import (
	"net"
	"os"
	"strings"
)

// Machine is what MachineNames looks at; a variable so tests can stand in
// for the machine.
type Machine struct {
	Hostname       func() (string, error)
	InterfaceAddrs func() ([]net.Addr, error)
}

// System is the machine posd runs on.
var System = Machine{Hostname: os.Hostname, InterfaceAddrs: net.InterfaceAddrs}

// Names returns what the leaf of a listener bound to bind must carry: the
// extra names the owner gave (a DNS name of the shop's LAN); the machine's
// host name and its mDNS form (NAME.local, how Apple devices and most
// others find a machine on a LAN without DNS); localhost and the loopback
// addresses; and the addresses the listener serves on — every address of
// the machine's interfaces when bind is unspecified (0.0.0.0, ::), else
// bind alone. Link-local addresses are left out: no browser opens them.
func (m Machine) Names(bind net.IP, extra []string) Names {
	var n Names
	n.Add(extra...) // first: the leaf's common name is its first name
	n.Add(m.HostNames()...)
	n.Add("localhost", "127.0.0.1", "::1")
	if bind != nil && !bind.IsUnspecified() {
		n.IPs = append(n.IPs, bind)
		return n
	}
	n.IPs = append(n.IPs, m.Addresses(bind)...)
	return n
}

// HostNames are the machine's host name, lower-cased, and NAME.local.
func (m Machine) HostNames() []string {
	h, err := m.Hostname()
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if err != nil || h == "" || h == "localhost" || !ValidName(h) {
		return nil
	}
	out := []string{h}
	if label, _, _ := strings.Cut(h, "."); !strings.HasSuffix(h, ".local") {
		out = append(out, label+".local")
	}
	return out
}

// Addresses are the machine's interface addresses that a till can reach:
// not loopback, not link-local. With bind an IPv4 unspecified address
// (0.0.0.0), IPv4 only, as that is what such a listener serves.
func (m Machine) Addresses(bind net.IP) []net.IP {
	addrs, err := m.InterfaceAddrs()
	if err != nil {
		return nil
	}
	v4only := bind != nil && bind.To4() != nil
	var out []net.IP
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsUnspecified() {
			continue
		}
		if v4only && ipn.IP.To4() == nil {
			continue
		}
		out = append(out, ipn.IP)
	}
	return out
}
