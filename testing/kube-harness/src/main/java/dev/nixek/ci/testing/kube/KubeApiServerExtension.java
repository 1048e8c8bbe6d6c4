package dev.nixek.ci.testing.kube;

import java.lang.reflect.Method;

import io.fabric8.kubernetes.client.KubernetesClient;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a started {@link KubeApiServer}, one per test JVM: started on first use (in {@code beforeAll}
 * of the first class using the extension), kept in the root {@link ExtensionContext.Store} and stopped when
 * the whole test run ends. A missing binary disables the tests, reported as skipped with the reason (under
 * {@code CI=true} they fail instead); a failed
 * start-up is remembered and reported to every later class without trying again.
 *
 * <p>Use either way:
 * <pre>{@code
 * @ExtendWith(KubeApiServerExtension.class)
 * class MyIT {
 *     @Test
 *     void works(KubeApiServer kube, KubernetesClient admin, TestNamespace ns, TestKubelet kubelet) { ... }
 * }
 *
 * class MyOtherIT {
 *     @RegisterExtension
 *     static final KubeApiServerExtension KUBE = new KubeApiServerExtension();
 *
 *     @Test
 *     void works() {
 *         String ns = KUBE.newNamespace("other");
 *         KUBE.server().kubectl("get", "ns").orThrow();
 *     }
 * }
 * }</pre>
 *
 * <p>Parameters it resolves (test, lifecycle and constructor parameters):
 * <ul>
 *   <li>{@link KubeApiServer}: the shared server;</li>
 *   <li>{@link KubernetesClient}: its admin client (do not close it);</li>
 *   <li>{@link TestNamespace}: a namespace created for the current test (a {@code @BeforeEach} method and
 *       its test get the same one; a {@code @BeforeAll} method gets one for the class);</li>
 *   <li>{@link TestKubelet}: a started test kubelet watching that namespace, closed after the test (or the
 *       class).</li>
 * </ul>
 */
public class KubeApiServerExtension implements ExecutionCondition, BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(KubeApiServerExtension.class);

    private volatile KubeApiServer server;

    /**
     * Disables (reports as skipped, with the reason) the tests when a binary is missing and {@code CI} is not
     * true; under {@code CI=true} they run and fail in {@code beforeAll}.
     */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (TestBinaries.isCi()) {
            return ConditionEvaluationResult.enabled("CI=true: missing binaries fail the tests");
        }
        return TestBinaries.locate().missing("etcd", "kube-apiserver", "kubectl")
                .map(why -> ConditionEvaluationResult.disabled(why + ": run " + TestBinaries.BUILD_SCRIPT
                        + " (see hack/k8s-bins/README.md)"))
                .orElseGet(() -> ConditionEvaluationResult.enabled("test binaries present"));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        server = shared(context);
    }

    /**
     * The shared server of this test run, started if need be.
     *
     * @throws org.opentest4j.TestAbortedException when a binary is missing (and CI is not true)
     */
    public static KubeApiServer shared(ExtensionContext context) {
        return context.getRoot().getStore(NS)
                .getOrComputeIfAbsent(SharedServer.class, k -> new SharedServer(), SharedServer.class)
                .get();
    }

    /** The server, once {@code beforeAll} ran (for a {@code @RegisterExtension static} field). */
    public KubeApiServer server() {
        KubeApiServer s = server;
        if (s == null) {
            throw new IllegalStateException("the server is started in beforeAll; register the extension on a"
                    + " static field (@RegisterExtension static) or use parameter injection");
        }
        return s;
    }

    /** The admin client of the server. */
    public KubernetesClient client() {
        return server().client();
    }

    /** Creates a namespace with a unique name starting with {@code prefix} and returns its name. */
    public String newNamespace(String prefix) {
        return server().createUniqueNamespace(prefix);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == KubeApiServer.class || type == KubernetesClient.class || type == TestNamespace.class
                || type == TestKubelet.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
        Class<?> type = parameterContext.getParameter().getType();
        KubeApiServer kube = shared(context);
        if (type == KubeApiServer.class) {
            return kube;
        }
        if (type == KubernetesClient.class) {
            return kube.client();
        }
        if (type == TestNamespace.class) {
            return namespace(context, kube);
        }
        if (type == TestKubelet.class) {
            TestNamespace ns = namespace(context, kube);
            return context.getStore(NS).getOrComputeIfAbsent(KubeletResource.class,
                    k -> new KubeletResource(TestKubelet.builder(kube.client()).namespace(ns.name()).start()),
                    KubeletResource.class).kubelet;
        }
        throw new ParameterResolutionException("unsupported parameter type " + type);
    }

    private static TestNamespace namespace(ExtensionContext context, KubeApiServer kube) {
        return context.getStore(NS).getOrComputeIfAbsent(TestNamespace.class,
                k -> new TestNamespace(kube.createUniqueNamespace(prefix(context))), TestNamespace.class);
    }

    private static String prefix(ExtensionContext context) {
        String name = context.getTestMethod().map(Method::getName)
                .orElseGet(() -> context.getTestClass().map(Class::getSimpleName).orElse("test"));
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").replaceAll("([A-Z])([A-Z][a-z])", "$1-$2");
    }

    /**
     * The value kept in the root store: starts the server on first {@link #get()}, remembers a failure, stops
     * the server when the store is closed. Implements both {@link AutoCloseable} (JUnit 5.13+) and the older
     * {@code CloseableResource}; JUnit calls exactly one of them.
     */
    @SuppressWarnings("deprecation")
    private static final class SharedServer implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private KubeApiServer server;
        private RuntimeException failure;

        synchronized KubeApiServer get() {
            if (failure != null) {
                throw failure;
            }
            if (server == null) {
                try {
                    server = new KubeApiServer().start();
                } catch (RuntimeException e) {
                    failure = e;
                    throw e;
                }
            }
            return server;
        }

        @Override
        public synchronized void close() {
            if (server != null) {
                server.close();
            }
        }
    }

    @SuppressWarnings("deprecation")
    private static final class KubeletResource implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        final TestKubelet kubelet;

        KubeletResource(TestKubelet kubelet) {
            this.kubelet = kubelet;
        }

        @Override
        public void close() {
            kubelet.close();
        }
    }
}
