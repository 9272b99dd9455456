package servingtest

import "fmt"

// Profile returns a ready model by name: "fp16" (Sim7BFP16), "w8a8"
// (Sim7BW8A8) or "zero" (ZeroCost). The CLI's --sim-profile and benchtest's
// SERVINGBENCH_SIM take these names.
func Profile(name string) (Model, error) {
	switch name {
	case "fp16":
		return Sim7BFP16(), nil
	case "w8a8":
		return Sim7BW8A8(), nil
	case "zero":
		return ZeroCost(), nil
	}
	return Model{}, fmt.Errorf("unknown simulated profile %q (want fp16, w8a8 or zero)", name)
}
