package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** The files a {@link KubeApiServer} authenticates with: the admin token, the ServiceAccount keys, kubeconfigs. */
final class Credentials {

    private Credentials() {
    }

    /**
     * Writes a fresh admin token ({@code tokens.csv} for {@code --token-auth-file}, and {@code token}), the
     * ServiceAccount signing key pair ({@code sa.key}, {@code sa.pub}) and the {@code certs} directory into
     * {@code workDir}, and returns the token.
     */
    static String write(Path workDir) {
        try {
            SecureRandom random = new SecureRandom();
            byte[] t = new byte[16];
            random.nextBytes(t);
            String token = HexFormat.of().formatHex(t);
            // token,user,uid,"group1,group2"
            Files.writeString(workDir.resolve("tokens.csv"), token + ",admin,admin,\"system:masters\"\n");
            Files.writeString(workDir.resolve("token"), token);
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
            gen.initialize(2048, random);
            KeyPair kp = gen.generateKeyPair();
            Files.writeString(workDir.resolve("sa.key"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(workDir.resolve("sa.pub"), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
            Files.createDirectories(workDir.resolve("certs"));
            return token;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate the service account key pair", e);
        }
    }

    /** PEM text: PKCS#8 for "PRIVATE KEY", X.509 SubjectPublicKeyInfo for "PUBLIC KEY". */
    static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /** A kubeconfig for {@code url} with a bearer token, {@code insecure-skip-tls-verify} and a default namespace. */
    static void writeKubeconfig(Path file, String url, String user, String bearer, String namespace) {
        String yaml = "apiVersion: v1\n"
                + "kind: Config\n"
                + "clusters:\n"
                + "- name: test\n"
                + "  cluster:\n"
                + "    server: " + url + "\n"
                + "    insecure-skip-tls-verify: true\n"
                + "users:\n"
                + "- name: " + user + "\n"
                + "  user:\n"
                + "    token: " + bearer + "\n"
                + "contexts:\n"
                + "- name: test\n"
                + "  context:\n"
                + "    cluster: test\n"
                + "    user: " + user + "\n"
                + "    namespace: " + namespace + "\n"
                + "current-context: test\n";
        try {
            Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
