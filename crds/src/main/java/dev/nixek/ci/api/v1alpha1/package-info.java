/** The nixek-ci custom resources, group {@code ci.nixek.dev}, version {@code v1alpha1}. */
package dev.nixek.ci.api.v1alpha1;
