//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// lossyDisk is an ext4 file system on a loop device, made to lose power.
//
// Writes posd has not fsynced sit dirty in the page cache of the ext4 on
// top of the loop device; only a flush (fsync, fdatasync, or the kernel's
// own writeback) sends them down to the loop device and so into the image
// file. A copy of the image file taken right after posd died is therefore
// the disk as it would be found after a power cut: everything fsynced is
// there, anything else may or may not be. Cut swaps that copy in, and
// mounting it replays the ext4 journal as a reboot would.
//
// It needs root, losetup, mkfs.ext4 and mount (no device-mapper or FUSE);
// PowerLossUnavailable says why it cannot run.
type lossyDisk struct {
	img, mnt, dev string
	// Cuts counts power cuts.
	Cuts int
}

// PowerLossUnavailable returns why this machine cannot run the power-loss
// profile, or nil.
func PowerLossUnavailable() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (losetup, mount)")
	}
	for _, c := range []string{"losetup", "mkfs.ext4", "mount", "umount"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("needs %s", c)
		}
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		return errors.New("no loop devices (/dev/loop-control)")
	}
	return nil
}

func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// newLossyDisk makes a 128 MiB image in dir, formats and mounts it.
func newLossyDisk(dir string) (*lossyDisk, error) {
	d := &lossyDisk{img: filepath.Join(dir, "disk.img"), mnt: filepath.Join(dir, "mnt")}
	f, err := os.Create(d.img)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(128 << 20); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	if err := os.MkdirAll(d.mnt, 0o700); err != nil {
		return nil, err
	}
	if _, err := run("mkfs.ext4", "-q", "-F", d.img); err != nil {
		return nil, err
	}
	if err := d.attach(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *lossyDisk) attach() error {
	dev, err := run("losetup", "-f", "--show", d.img)
	if err != nil {
		return err
	}
	d.dev = dev
	if _, err := run("mount", "-t", "ext4", dev, d.mnt); err != nil {
		run("losetup", "-d", dev)
		d.dev = ""
		return err
	}
	return nil
}

func (d *lossyDisk) detach() error {
	if d.dev == "" {
		return nil
	}
	var err error
	for i := 0; i < 50; i++ {
		if _, err = run("umount", d.mnt); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		// Something still holds a file on it: detach lazily rather than
		// leave a mount and a loop device behind.
		run("umount", "-l", d.mnt)
	}
	_, err2 := run("losetup", "-d", d.dev)
	d.dev = ""
	return errors.Join(err, err2)
}

// DataDir is where posd keeps its data on the disk.
func (d *lossyDisk) DataDir() string { return filepath.Join(d.mnt, "data") }

// Cut is the power cut, to run once posd is dead: the disk comes back as
// it was on the device, without what was only in the page cache.
func (d *lossyDisk) Cut() error {
	cut := d.img + ".cut"
	if _, err := run("cp", "--sparse=always", d.img, cut); err != nil {
		return err
	}
	if err := d.detach(); err != nil {
		return err
	}
	if err := os.Rename(cut, d.img); err != nil {
		return err
	}
	d.Cuts++
	return d.attach()
}

// Close unmounts and detaches.
func (d *lossyDisk) Close() { d.detach() }

// injectPowerCuts kills posd at random moments under load; before it
// starts again the disk loses what was not fsynced (see lossyDisk).
func injectPowerCuts(r *Run, s Scale) error {
	if r.disk == nil {
		return errors.New("the power-loss profile needs its disk (Execute makes it)")
	}
	for i := 0; i < s.PowerCuts; i++ {
		r.Sleep(jitter(200*time.Millisecond, 900*time.Millisecond))
		if err := r.Posd.Kill(); err != nil {
			return fmt.Errorf("power cut %d: %w", i, err)
		}
		r.Faults["power cut"] = r.disk.Cuts
		r.progress("power cut", i+1, s.PowerCuts)
	}
	r.Sleep(500 * time.Millisecond)
	return nil
}
