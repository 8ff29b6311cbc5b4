#pragma once
// Socket addresses for the inet unit tests (tcp_test.cpp, udp_test.cpp).
#include <arpa/inet.h>

#include <string>

#include "sentry/netstack/socket.h"

namespace sentry::netstack::test {

inline Address v4(const char* ip, uint16_t port, socklen_t len = sizeof(sockaddr_in))
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    inet_pton(AF_INET, ip, &sin.sin_addr);
    return Address::of(sin, len);
}

inline Address v6(const char* ip, uint16_t port)
{
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &sin6.sin6_addr);
    return Address::of(sin6);
}

inline std::string ip_of(const Address& a)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.family() == AF_INET)
        inet_ntop(AF_INET, &a.as<sockaddr_in>().sin_addr, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, &a.as<sockaddr_in6>().sin6_addr, buf, sizeof buf);
    return buf;
}

// The port sits at the same offset in sockaddr_in and sockaddr_in6.
inline uint16_t port_of(const Address& a) { return ntohs(a.as<sockaddr_in>().sin_port); }
inline uint16_t local_port(Socket& s) { return port_of(s.local_name().value()); }

} // namespace sentry::netstack::test
