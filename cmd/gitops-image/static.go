package main

import (
	"debug/elf"
	"fmt"
)

// machines maps GOARCH to the ELF machine of its binaries.
var machines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"arm":     elf.EM_ARM,
	"386":     elf.EM_386,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// CheckStatic refuses a binary that is not a static ELF executable for
// arch: the image has no libc and no dynamic loader, so a dynamically
// linked binary would not start ("no such file or directory").
func CheckStatic(path, arch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("binary %s: %w", path, err)
	}
	defer f.Close()
	want, ok := machines[arch]
	if !ok {
		return fmt.Errorf("binary %s: architecture %q is not supported", path, arch)
	}
	if f.Machine != want {
		return fmt.Errorf("binary %s is for %s, not %s (build it with GOARCH=%s)", path, f.Machine, arch, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return fmt.Errorf("binary %s is dynamically linked; the image has no libc: build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}
