package dev.nixek.ci.operator.machine;

import java.time.Instant;

/**
 * A machine as a provider sees it.
 *
 * @param id the provider's id (EC2 instance id, or a local machine id)
 * @param state its state
 * @param jobUid the job it was launched for (from its tags), or null if unknown
 * @param launchToken the launch token it was launched with, or null if unknown
 * @param launchTime when it was launched
 * @param stateReason why it is in that state, if the provider says (e.g. "exit code 1")
 */
public record Machine(String id, MachineState state, String jobUid, String launchToken, Instant launchTime,
    String stateReason) {}
