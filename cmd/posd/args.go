package main

import (
	"errors"
	"flag"
	"fmt"
)

// parseWithFile parses flags around one positional FILE argument, which
// may come before or after the flags (posd restore --data-dir D FILE, or
// posd restore FILE --data-dir D).
func parseWithFile(fs *flag.FlagSet, args []string, required bool) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs)
			return "", err
		}
		return "", usageError{err.Error()}
	}
	file := ""
	if fs.NArg() > 0 {
		file = fs.Arg(0)
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return "", err
		}
	}
	if required && file == "" {
		return "", usageError{fmt.Sprintf("the backup FILE is missing (usage: posd %s)", fs.Name()[len("posd "):])}
	}
	return file, nil
}
