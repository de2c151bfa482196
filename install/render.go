package install

import (
	"fmt"
	"html"
	"strings"
)

// SystemdUnit renders the systemd unit: started after the network is up,
// restarted 2 s after a failure (not after a clean stop), stopped with
// SIGTERM and given StopTimeout to finish, files created private.
func SystemdUnit(c Config) string {
	var b strings.Builder
	args := []string{systemdQuote(c.Executable)}
	for _, a := range c.Arguments() {
		args = append(args, systemdQuote(a))
	}
	fmt.Fprintf(&b, `[Unit]
Description=%s
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=300
StartLimitBurst=20

[Service]
Type=simple
ExecStart=%s
WorkingDirectory=%s
Restart=on-failure
RestartSec=2
TimeoutStopSec=%d
KillSignal=SIGTERM
UMask=0077

[Install]
WantedBy=multi-user.target
`, systemdPercent(oneLine(c.DisplayName+": "+c.Description)), strings.Join(args, " "), systemdPercent(c.DataDir), int(StopTimeout.Seconds()))
	return b.String()
}

// systemdQuote quotes one word of a unit file command line: double quotes
// with backslash escapes, and % and $ doubled so that systemd does not
// expand them.
func systemdQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`, `$`, `$$`)
	return `"` + r.Replace(s) + `"`
}

// systemdPercent escapes specifiers in a plain (unquoted) unit value.
func systemdPercent(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// LaunchdPlist renders the launchd daemon: started at boot, kept alive
// (relaunched when it exits), given StopTimeout to stop, its own output in
// the data directory for what happens before posd's log is open.
func LaunchdPlist(c Config) string {
	var b strings.Builder
	x := html.EscapeString
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>%s</string>
	<key>ProgramArguments</key>
	<array>
		<string>%s</string>
`, x(c.Name), x(c.Executable))
	for _, a := range c.Arguments() {
		fmt.Fprintf(&b, "\t\t<string>%s</string>\n", x(a))
	}
	fmt.Fprintf(&b, `	</array>
	<key>WorkingDirectory</key>
	<string>%s</string>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<true/>
	<key>ThrottleInterval</key>
	<integer>5</integer>
	<key>ExitTimeOut</key>
	<integer>%d</integer>
	<key>Umask</key>
	<integer>63</integer>
	<key>StandardOutPath</key>
	<string>%s</string>
	<key>StandardErrorPath</key>
	<string>%s</string>
</dict>
</plist>
`, x(c.DataDir), int(StopTimeout.Seconds()), x(c.DataDir+"/posd.launchd.log"), x(c.DataDir+"/posd.launchd.log"))
	return b.String()
}

// windowsOptions are the Windows service manager settings: automatic start,
// delayed until the boot has settled, and restart 5 s after any failure
// (the failure count resets after a day).
func windowsOptions() map[string]any {
	return map[string]any{
		"StartType":              "automatic",
		"DelayedAutoStart":       true,
		"OnFailure":              "restart",
		"OnFailureDelayDuration": "5s",
		"OnFailureResetPeriod":   86400,
	}
}
