//go:build windows

package shopca

import "golang.org/x/sys/windows"

// keyACL is the key file's access list: full control for SYSTEM, the
// Administrators and the file's owner (the account posd runs as), nobody
// else, and nothing inherited from the data directory (C:\ProgramData lets
// every local user read what is below it unless told otherwise). File mode
// bits mean little on Windows; this is what "0600" means there.
const keyACL = "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)"

// restrict gives path the key file's access list.
func restrict(path string) error {
	sd, err := windows.SecurityDescriptorFromString(keyACL)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

// tighten leaves an existing key's access list as it is: restrict set it
// when posd made the file, and an administrator may have changed it since
// on purpose.
func tighten(path string) error { return nil }
