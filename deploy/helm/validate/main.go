// Command k8s-validate checks rendered Kubernetes manifests offline (no cluster, no schema download):
// each YAML document on stdin is decoded strictly into its k8s.io/api type, so a misspelt or misplaced
// field, a wrong type or a malformed quantity is an error. The chart test pipes `helm template` into it.
// Kinds outside k8s.io/api (CRDs such as ServiceMonitor) are only checked for apiVersion, kind and name.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// typed returns an empty object of the API type for apiVersion/kind, or nil when k8s.io/api has none.
func typed(apiVersion, kind string) any {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/Secret":
		return &corev1.Secret{}
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "batch/v1/Job":
		return &batchv1.Job{}
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}
	}
	return nil
}

// crds are the custom kinds the chart may render; anything else unknown is an error (a typo in apiVersion).
var crds = map[string]bool{"monitoring.coreos.com/v1/ServiceMonitor": true}

func main() {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	failed, checked := 0, 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "read: %v\n", err)
			os.Exit(2)
		}
		if strings.TrimSpace(stripComments(string(doc))) == "" {
			continue
		}
		var h header
		if err := yaml.Unmarshal(doc, &h); err != nil {
			fmt.Printf("invalid document: %v\n", err)
			failed++
			continue
		}
		id := fmt.Sprintf("%s/%s %s", h.APIVersion, h.Kind, h.Metadata.Name)
		checked++
		if h.APIVersion == "" || h.Kind == "" || h.Metadata.Name == "" {
			fmt.Printf("invalid %s: apiVersion, kind and metadata.name are required\n", id)
			failed++
			continue
		}
		obj := typed(h.APIVersion, h.Kind)
		if obj == nil {
			if crds[h.APIVersion+"/"+h.Kind] {
				fmt.Printf("ok %s (custom resource: not type-checked)\n", id)
				continue
			}
			fmt.Printf("invalid %s: unknown apiVersion/kind\n", id)
			failed++
			continue
		}
		// sigs.k8s.io/json, as the API server decodes: field names are case-sensitive (encoding/json is not,
		// so `readOnlyRootFileSystem` would pass there and be ignored by the cluster).
		data, err := yaml.YAMLToJSON(doc)
		if err == nil {
			var strict []error
			strict, err = kjson.UnmarshalStrict(data, obj)
			if err == nil && len(strict) > 0 {
				err = errors.Join(strict...)
			}
		}
		if err != nil {
			fmt.Printf("invalid %s: %v\n", id, err)
			failed++
			continue
		}
		fmt.Printf("ok %s\n", id)
	}
	fmt.Printf("%d documents checked, %d invalid\n", checked, failed)
	if failed > 0 || checked == 0 {
		os.Exit(1)
	}
}

func stripComments(doc string) string {
	var kept []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}
