package io.eventrunner.flink;

import org.apache.flink.api.dag.Pipeline;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient.JobFinalizationBehavior;
import org.apache.flink.streaming.api.graph.StreamGraph;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One mini cluster (a job manager and one task manager in this JVM) that every job of the run is
 * submitted to. Flink's own local executor starts and stops a mini cluster for each job, which
 * costs seconds per job; this executor starts it once.
 */
final class SharedCluster implements PipelineExecutorServiceLoader, PipelineExecutorFactory, PipelineExecutor {
    private final MiniCluster cluster;

    SharedCluster(Configuration conf, int slots) throws Exception {
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .build());
        cluster.start();
    }

    void close() throws Exception {
        cluster.closeAsync().get(10, TimeUnit.SECONDS);
    }

    @Override
    public CompletableFuture<JobClient> execute(Pipeline pipeline, Configuration conf, ClassLoader classLoader)
            throws Exception {
        StreamGraph graph = PipelineExecutorUtils.getStreamGraph(pipeline, conf);
        return cluster.submitJob(graph).thenApply(submitted -> new MiniClusterJobClient(
                submitted.getJobID(), cluster, classLoader, JobFinalizationBehavior.NOTHING));
    }

    @Override
    public PipelineExecutorFactory getExecutorFactory(Configuration conf) {
        return this;
    }

    @Override
    public Stream<String> getExecutorNames() {
        return Stream.of(getName());
    }

    @Override
    public String getName() {
        return "shared-mini-cluster";
    }

    @Override
    public boolean isCompatibleWith(Configuration conf) {
        return true;
    }

    @Override
    public PipelineExecutor getExecutor(Configuration conf) {
        return this;
    }
}
