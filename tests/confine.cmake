# Self-confinement of the sentry (sentry/common/self_confine.h): the probe of
# forbidden host calls, the kernel's view of a running sentry (Seccomp: 2), the
# SENTRY_NO_SELF_CONFINE escape hatch, and real workloads under the filter against
# Linux. Included by tests/CMakeLists.txt. About 20 s.
add_test(NAME e2e_self_confine
  COMMAND bash ${E2E}/self_confine.sh $<TARGET_FILE:sentry> ${SENTRY_TEST_PYTHON3} ${CMAKE_CURRENT_BINARY_DIR}/guests)
set_tests_properties(e2e_self_confine PROPERTIES TIMEOUT 240 LABELS e2e)
