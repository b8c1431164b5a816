package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ringtable/ringtable/tenants"
)

// defaultDataDir is where `ringtable dev` keeps its data and key files;
// clients fall back to the key files there.
const defaultDataDir = "./ringtable-data"

// readKeyFile returns the key stored in path, "" if there is none.
func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// writeKeyFile stores a key readable by the owner only.
func writeKeyFile(path, key string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(key+"\n"), 0o600)
}

// loadOrCreateKey returns the key in path, creating a fresh secret there
// if the file does not exist.
func loadOrCreateKey(path string) (string, error) {
	k, err := readKeyFile(path)
	if err != nil || k != "" {
		return k, err
	}
	k = tenants.NewSecret()
	return k, writeKeyFile(path, k)
}

// resolveKey picks a client's key: the flag (which kong also fills from
// the environment variable), else the key file of a local dev cluster.
func resolveKey(flag, file, what string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	k, err := readKeyFile(file)
	if err != nil {
		return "", err
	}
	if k == "" {
		return "", fmt.Errorf("no %s: pass --%s, set %s, or run `ringtable dev` here (it writes %s)", what, map[string]string{"API key": "api-key", "admin key": "admin-key"}[what], map[string]string{"API key": "RINGTABLE_API_KEY", "admin key": "RINGTABLE_ADMIN_KEY"}[what], file)
	}
	return k, nil
}
