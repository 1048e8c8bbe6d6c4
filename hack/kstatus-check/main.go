// Command kstatus-check prints kstatus's verdict on Kubernetes objects: the status and message that
// sigs.k8s.io/cli-utils/pkg/kstatus/status computes, as Flux and kpt compute them. It reads one JSON object per
// argument (a file) or, without arguments, one from standard input, and prints one line per object:
// "<status>\t<message>". Exit status 2 on unreadable input.
package main

import (
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	inputs := os.Args[1:]
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	for _, in := range inputs {
		var data []byte
		var err error
		if in == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(in)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "kstatus-check: %s: %v\n", in, err)
			os.Exit(2)
		}
		// Unstructured's own decoder keeps integers int64, as kstatus reads generation and observedGeneration
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			fmt.Fprintf(os.Stderr, "kstatus-check: %s: not a Kubernetes object: %v\n", in, err)
			os.Exit(2)
		}
		res, err := status.Compute(u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kstatus-check: %s: %v\n", in, err)
			os.Exit(2)
		}
		fmt.Printf("%s\t%s\n", res.Status, res.Message)
	}
}
