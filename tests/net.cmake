# Issue 6: the netstack. Guests tests/guests/net_*.c are built and compared natively
# and under the sentry like the others; real programs (python3 http.server, redis)
# have e2e tests of their own.
# This file is included after tests/CMakeLists.txt's own guest loops, so it builds
# (sentry_add_guest) and registers its guests itself.
set(SENTRY_NET_GUESTS net_tcp_close net_unix_named net_tcp_basic net_unix_scm net_unix_close net_udp
  net_bad net_bulk net_many net_epoll)
# Guests that move 100 MB or open 10,000 connections: more time under the sentry.
set(SENTRY_NET_SLOW_GUESTS net_bulk net_many)
foreach(guest IN LISTS SENTRY_NET_GUESTS)
  sentry_add_guest(${guest})
  if(guest IN_LIST SENTRY_NET_SLOW_GUESTS)
    add_test(NAME diff_guest_${guest} COMMAND bash ${E2E}/difftest.sh --timeout 120 $<TARGET_FILE:sentry> -- $<TARGET_FILE:guest_${guest}>)
  else()
    add_test(NAME diff_guest_${guest} COMMAND ${DIFFTEST} $<TARGET_FILE:guest_${guest}>)
  endif()
endforeach()

# The part of net_unix_scm that needs setuid() (an unprivileged sender's SCM_CREDENTIALS).
add_test(NAME diff_guest_net_unix_scm_nobody COMMAND ${DIFFTEST} $<TARGET_FILE:guest_net_unix_scm> --as-nobody)
# 10,000 connections leave no object alive in the sentry (SENTRY_STATS at exit).
add_test(NAME e2e_net_leaks COMMAND bash ${E2E}/net_leaks.sh $<TARGET_FILE:sentry> $<TARGET_FILE:guest_net_many>)

# Tests listed in SENTRY_NET_PENDING wait for the capability they need (label pending).
# diff_guest_net_unix_scm_nobody: setuid() to another user is not emulated (issue 7).
set(SENTRY_NET_PENDING diff_guest_net_unix_scm_nobody)
