#pragma once
// Errors are values: an Errno carries a Linux errno (positive) or one of the
// kernel-internal restart codes, which never reach the guest's RAX except
// through the restart logic (compare Linux include/linux/errno.h).

#include <cerrno>
#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace sentry {

class Errno {
public:
    constexpr explicit Errno(int code) : m_code(code) {}
    constexpr int code() const { return m_code; }
    constexpr bool operator==(const Errno&) const = default;
    // The value a syscall leaves in RAX for this error.
    constexpr long as_return() const { return -static_cast<long>(m_code); }
    bool is_restart() const { return m_code >= 512 && m_code <= 516; }
    std::string_view name() const;

private:
    int m_code;
};

// Kernel-internal codes (Linux include/linux/errno.h).
inline constexpr int k_ERESTARTSYS = 512;
inline constexpr int k_ERESTARTNOINTR = 513;
inline constexpr int k_ERESTARTNOHAND = 514;
inline constexpr int k_ERESTART_RESTARTBLOCK = 516;

// The name of a Linux errno value, e.g. "ENOENT"; "E?" for unknown ones.
std::string_view errno_name(int code);

template<typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Errno e) : m_v(std::in_place_index<1>, e) {}
    bool is_error() const { return m_v.index() == 1; }
    bool is_ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return !is_error(); }
    Errno error() const { return std::get<1>(m_v); }
    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T* operator->() { return &value(); }
    T& operator*() { return value(); }

private:
    std::variant<T, Errno> m_v;
};

template<>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Errno e) : m_error(e), m_has_error(true) {}
    bool is_error() const { return m_has_error; }
    bool is_ok() const { return !m_has_error; }
    explicit operator bool() const { return !is_error(); }
    Errno error() const { return m_error; }
    void value() const {}

private:
    Errno m_error{0};
    bool m_has_error = false;
};

// Early return of the error of a Result; evaluates to its value otherwise.
#define TRY(expr)                                      \
    ({                                                 \
        auto _try_result = (expr);                     \
        if (_try_result.is_error())                    \
            return _try_result.error();                \
        std::move(_try_result).value();                \
    })

} // namespace sentry
