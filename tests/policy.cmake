# Issue 7, the policy file (sentry/policy, docs/policy.md). Included by tests/CMakeLists.txt.
#
# policy_configs: every configs/*.json passes `sentry check-config`, and every
# tests/policy/bad/*.json fails with exit 2 and the line in its .expected file.
add_test(NAME policy_configs
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_config.sh $<TARGET_FILE:sentry>
          ${CMAKE_SOURCE_DIR}/configs ${CMAKE_CURRENT_SOURCE_DIR}/policy/bad)

# policy_fuzz: the parser under libFuzzer for 30 s. The sentry itself builds with g++, so
# the script compiles the target with clang++ on its own (policy.cpp needs only
# nlohmann/json and libseccomp); without clang++ there is no such test.
find_program(SENTRY_CLANGXX clang++)
if(SENTRY_CLANGXX)
  add_test(NAME policy_fuzz
    COMMAND ${CMAKE_COMMAND} -E env CLANGXX=${SENTRY_CLANGXX}
            bash ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_policy_fuzz.sh 30 ${CMAKE_CURRENT_BINARY_DIR}/policy_fuzz)
  # About 40 s to build the first time, then 30 s of fuzzing on both cores' worth of work.
  set_tests_properties(policy_fuzz PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
endif()

# When the whole build uses clang (cmake -DCMAKE_CXX_COMPILER=clang++), the fuzz target
# is also an ordinary target: `cmake --build BUILD --target policy_fuzz_target`.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  option(SENTRY_BUILD_FUZZERS "build the libFuzzer targets (clang only)" ON)
  if(SENTRY_BUILD_FUZZERS)
    add_executable(policy_fuzz_target ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/policy_fuzz.cpp
                                      ${CMAKE_SOURCE_DIR}/sentry/policy/policy.cpp)
    target_include_directories(policy_fuzz_target PRIVATE ${CMAKE_SOURCE_DIR})
    # -O1 as libFuzzer advises: at -O0 nlohmann/json runs some 15 times slower.
    target_compile_options(policy_fuzz_target PRIVATE -O1 -g -fsanitize=fuzzer,address,undefined)
    target_link_options(policy_fuzz_target PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(policy_fuzz_target PRIVATE PkgConfig::SECCOMP nlohmann_json::nlohmann_json)
  endif()
endif()
