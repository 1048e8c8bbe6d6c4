package dev.nixek.ci.testing.aws.ec2;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;

/** Many SDK clients at once: one launch per ClientToken, no lost updates. */
@SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
class FakeEc2ConcurrencyTest {

    @Test
    void concurrentReplaysOfOneTokenLaunchOnceAndDistinctTokensEachLaunch() throws Exception {
        try (FakeEc2 fake = FakeEc2.start(); Ec2Client ec2 = fake.ec2Client()) {
            String ami = Ec2Fixtures.image(fake, ec2, "nixek-concurrency");
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<String>> same = new ArrayList<>();
                List<Future<String>> distinct = new ArrayList<>();
                for (int n = 0; n < 16; n++) {
                    int k = n;
                    Callable<String> replay = () -> {
                        go.await();
                        return ec2.runInstances(r -> r.imageId(ami).minCount(1).maxCount(1).clientToken("shared"))
                                .instances().get(0).instanceId();
                    };
                    Callable<String> own = () -> {
                        go.await();
                        ec2.createTags(r -> r.resources(ami).tags(t -> t.key("k" + k).value("v")));
                        return ec2.runInstances(r -> r.imageId(ami).minCount(1).maxCount(1).clientToken("own-" + k))
                                .instances().get(0).instanceId();
                    };
                    same.add(pool.submit(replay));
                    distinct.add(pool.submit(own));
                }
                go.countDown();
                Set<String> sameIds = new HashSet<>();
                for (Future<String> f : same) {
                    sameIds.add(f.get(30, TimeUnit.SECONDS));
                }
                Set<String> distinctIds = new HashSet<>();
                for (Future<String> f : distinct) {
                    distinctIds.add(f.get(30, TimeUnit.SECONDS));
                }
                assertThat(sameIds).hasSize(1);
                assertThat(distinctIds).hasSize(16).doesNotContainAnyElementsOf(sameIds);
                assertThat(fake.instances()).hasSize(17);
                assertThat(ec2.describeInstancesPaginator(r -> r.maxResults(5)).reservations().stream()
                        .flatMap(r -> r.instances().stream()).map(Instance::instanceId).distinct().count()).isEqualTo(17);
                assertThat(fake.images().get(0).tags()).hasSize(16);
                assertThat(fake.count("RunInstances")).isEqualTo(32);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
