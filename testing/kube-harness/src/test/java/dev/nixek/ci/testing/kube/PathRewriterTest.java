package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class PathRewriterTest {

    private final PathRewriter rw = new PathRewriter(Map.of(
            "/dev/termination-log", "/h/pod/termination-log",
            "/nixek", "/h/pod/volumes/job",
            "/nixek/out/", "/h/pod/volumes/out",
            "/", "/should/be/ignored"));

    @Test
    void rewritesWholeArgumentsAndPathsBelowAMount() {
        assertThat(rw.rewrite(List.of("tool", "--out", "/dev/termination-log", "--in", "/nixek/job.nix")))
                .containsExactly("tool", "--out", "/h/pod/termination-log", "--in", "/h/pod/volumes/job/job.nix");
        assertThat(rw.rewrite("/nixek")).isEqualTo("/h/pod/volumes/job");
        assertThat(rw.rewrite("/nixek/")).isEqualTo("/h/pod/volumes/job/");
    }

    @Test
    void rewritesInsideOptionsScriptsAndPathLists() {
        assertThat(rw.rewrite("--out=/dev/termination-log")).isEqualTo("--out=/h/pod/termination-log");
        assertThat(rw.rewrite("cat /nixek/a >/dev/termination-log; exit 3"))
                .isEqualTo("cat /h/pod/volumes/job/a >/h/pod/termination-log; exit 3");
        assertThat(rw.rewrite("echo '/nixek/a' \"/nixek/b\"")).isEqualTo("echo '/h/pod/volumes/job/a' \"/h/pod/volumes/job/b\"");
        assertThat(rw.rewrite("/usr/bin:/nixek/bin")).isEqualTo("/usr/bin:/h/pod/volumes/job/bin");
    }

    @Test
    void leavesOtherPathsAlone() {
        assertThat(rw.rewrite("/nixek2/x")).isEqualTo("/nixek2/x");
        assertThat(rw.rewrite("/opt/nixek/x")).isEqualTo("/opt/nixek/x");
        assertThat(rw.rewrite("a/nixek")).isEqualTo("a/nixek");
        assertThat(rw.rewrite("/dev/termination-log.bak")).isEqualTo("/dev/termination-log.bak");
        assertThat(rw.rewrite("/usr/bin/env")).isEqualTo("/usr/bin/env"); // "/" is never mapped
        assertThat(rw.rewrite((String) null)).isNull();
    }

    @Test
    void theLongestContainerPathWinsAndHostPathsAreNotRewrittenAgain() {
        assertThat(rw.rewrite("/nixek/out/result")).isEqualTo("/h/pod/volumes/out/result");
        assertThat(rw.rewrite("/nixek/outside")).isEqualTo("/h/pod/volumes/job/outside");
        PathRewriter tmp = new PathRewriter(Map.of("/tmp", "/tmp/kubelet/vol"));
        assertThat(tmp.rewrite("/tmp/a /tmp")).isEqualTo("/tmp/kubelet/vol/a /tmp/kubelet/vol");
    }

    @Test
    void coversMountsAndPathsBelowThem() {
        assertThat(rw.covers("/nixek/x/y")).isTrue();
        assertThat(rw.covers("/nixek")).isTrue();
        assertThat(rw.covers("/nix")).isFalse();
        assertThat(rw.covers("/")).isFalse();
    }

    @Test
    void expandsVariablesLikeKubernetes() {
        Map<String, String> vars = Map.of("A", "1", "POD", "p");
        assertThat(PathRewriter.expand("$(A)-$(POD)", vars)).isEqualTo("1-p");
        assertThat(PathRewriter.expand("$(UNDEFINED)", vars)).isEqualTo("$(UNDEFINED)");
        assertThat(PathRewriter.expand("$$(A)", vars)).isEqualTo("$(A)");
        assertThat(PathRewriter.expand("$(A", vars)).isEqualTo("$(A");
        assertThat(PathRewriter.expand("a$b $", vars)).isEqualTo("a$b $");
        assertThat(PathRewriter.expand("$(seq 1 3)", vars)).isEqualTo("$(seq 1 3)");
        assertThat(PathRewriter.expand("$$$$", vars)).isEqualTo("$$");
    }
}
