# Network mode "host": TCP and UDP from the sandbox to servers outside it, through
# host sockets (sentry/netstack/host_socket.h). Included by tests/CMakeLists.txt.
#
# Needs no internet: tests/e2e/host_network.sh runs its servers natively on this
# machine's first non-loopback IPv4 address, and prints SKIP (exit 0) when there is
# none. Natively about 17 s in all (each case also runs natively first).
add_test(NAME e2e_host_network COMMAND bash ${E2E}/host_network.sh $<TARGET_FILE:sentry> ${SENTRY_TEST_PYTHON3})
set_tests_properties(e2e_host_network PROPERTIES TIMEOUT 300)
