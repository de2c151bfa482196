// Package shopca is the shop's own certificate authority: what lets a till
// on the LAN open posd over HTTPS, where browsers give a page a service
// worker, Web Locks and persistent storage, so that a till whose tab
// reloads while posd is down still opens and sells.
//
// The CA is made once, when first needed, in the data directory: an ECDSA
// P-256 key (ca.key, readable by posd's user only) and a self-signed CA
// certificate valid for ten years (ca.crt), which each till trusts once.
// Restarting posd keeps it; only removing the files makes a new one, which
// every till must then trust anew.
//
// From it posd issues short-lived leaf certificates (90 days) for the names
// and addresses the till may use — the host name, localhost, the loopback
// addresses, every address of the machine and names the owner adds — and
// keeps them in memory only: a new leaf at every start, another when two
// thirds of its life have passed, and another as soon as the machine has an
// address the current one lacks. The TLS listener asks for the current leaf
// at every handshake (GetCertificate), so a renewal needs no restart.
//
// Every certificate is encoded by crypto/x509; nothing here writes ASN.1 by
// hand. The leaf profile follows what the strictest client checks (Apple's
// rules for every TLS server certificate, user-trusted CAs included): names
// in the subjectAltName only, the serverAuth extended key usage, SHA-256
// signatures and at most 825 days of validity.
package shopca
