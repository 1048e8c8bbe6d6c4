package dev.nixek.ci.testing.kube;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clients of a started {@link KubeApiServer}: the shared admin client, ServiceAccount tokens (TokenRequest API,
 * cached) with clients and kubeconfigs for them, and namespaces. Every client made here is closed by
 * {@link #closeAll()}. The public Javadoc is on {@link KubeApiServer}'s methods, which check the server runs.
 */
final class ClusterClients {

    private static final Logger LOG = LoggerFactory.getLogger(KubeApiServer.class);
    private static final AtomicInteger NAMESPACE_SEQ = new AtomicInteger();
    private static final String NAMESPACE_SALT =
            HexFormat.of().formatHex(new SecureRandom().generateSeed(2));

    private final String url;
    private final String adminToken;
    private final Path workDir;
    private volatile KubernetesClient adminClient;
    private final List<KubernetesClient> clients = new CopyOnWriteArrayList<>();
    private final Map<String, String> serviceAccountTokens = new ConcurrentHashMap<>();

    ClusterClients(String url, String adminToken, Path workDir) {
        this.url = url;
        this.adminToken = adminToken;
        this.workDir = workDir;
    }

    KubernetesClient client() {
        KubernetesClient c = adminClient;
        if (c == null) {
            synchronized (this) {
                c = adminClient;
                if (c == null) {
                    c = newClient(adminToken, "default");
                    adminClient = c;
                }
            }
        }
        return c;
    }

    KubernetesClient clientFor(String namespace, String serviceAccount) {
        return newClient(serviceAccountToken(namespace, serviceAccount), namespace);
    }

    Path kubeconfigFor(String namespace, String serviceAccount) {
        String t = serviceAccountToken(namespace, serviceAccount);
        Path file = workDir.resolve("kubeconfig-" + namespace + "-" + serviceAccount);
        Credentials.writeKubeconfig(file, url, "system:serviceaccount:" + namespace + ":" + serviceAccount, t,
                namespace);
        return file;
    }

    String serviceAccountToken(String namespace, String serviceAccount) {
        return serviceAccountTokens.computeIfAbsent(namespace + "/" + serviceAccount, k -> {
            ensureNamespace(namespace);
            KubernetesClient admin = client();
            var sa = admin.serviceAccounts().inNamespace(namespace).withName(serviceAccount);
            if (sa.get() == null) {
                try {
                    admin.serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder()
                            .withNewMetadata().withName(serviceAccount).endMetadata().build()).create();
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 409) {
                        throw e;
                    }
                }
            }
            TokenRequest tr = sa.tokenRequest(new TokenRequestBuilder()
                    .withNewSpec().withExpirationSeconds(24L * 3600).endSpec().build());
            return tr.getStatus().getToken();
        });
    }

    KubernetesClient newClient(String bearerToken, String namespace) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(url)
                .withOauthToken(bearerToken)
                .withTrustCerts(true)
                .withDisableHostnameVerification(true)
                .withNamespace(namespace)
                .build();
        KubernetesClient c = new KubernetesClientBuilder().withConfig(config).build();
        clients.add(c);
        return c;
    }

    String createNamespace(String name) {
        try {
            client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                    .addToLabels("nixek.dev/test-harness", "true").endMetadata().build()).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
        }
        return name;
    }

    String createUniqueNamespace(String prefix) {
        String p = prefix == null ? "" : prefix.toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-").replaceAll("-+", "-").replaceAll("^-|-$", "");
        if (p.length() > 40) {
            p = p.substring(0, 40).replaceAll("-$", "");
        }
        if (p.isEmpty() || !Character.isLetter(p.charAt(0))) {
            p = "t" + (p.isEmpty() ? "" : "-" + p);
        }
        return createNamespace(p + "-" + NAMESPACE_SALT + NAMESPACE_SEQ.incrementAndGet());
    }

    private void ensureNamespace(String name) {
        if (client().namespaces().withName(name).get() == null) {
            createNamespace(name);
        }
    }

    void closeAll() {
        for (KubernetesClient c : clients) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.debug("closing a client", e);
            }
        }
        clients.clear();
        adminClient = null;
    }
}
