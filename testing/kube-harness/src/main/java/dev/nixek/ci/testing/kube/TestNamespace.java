package dev.nixek.ci.testing.kube;

/**
 * A fresh namespace created for one test (or one test class, when injected into a {@code @BeforeAll} method
 * or a constructor) by {@link KubeApiServerExtension}. Namespaces are not deleted afterwards: without a
 * controller-manager a deleted namespace stays Terminating forever, and the server is thrown away at the end.
 *
 * @param name the namespace name
 */
public record TestNamespace(String name) {

    @Override
    public String toString() {
        return name;
    }
}
