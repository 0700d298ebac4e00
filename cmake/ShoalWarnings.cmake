# Warnings are errors in our own code; third-party headers are SYSTEM includes.
add_compile_options(-Wall -Wextra -Wpedantic -Werror -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 at -O2 reports std::optional<T> members as "maybe uninitialized" where they are not
  # (GCC PR 80635, seen on optional<bool> and optional<time_point> here): keep it a warning only.
  add_compile_options(-Wno-error=maybe-uninitialized)
  # Likewise libstdc++ 12's std::string at -O2 trips -Warray-bounds/-Wstringop-* on correct code
  # (GCC PR 105329, 105651). Real bounds errors are caught by the ASan build, which runs every test.
  add_compile_options(-Wno-error=array-bounds -Wno-error=stringop-overflow -Wno-error=stringop-overread)
  # With -fsanitize, g++ 12 inlines Asio's coroutine-frame allocator and then reports its
  # matching operator new/delete pair as mismatched, in any file that awaits: off, not fatal-only.
  add_compile_options(-Wno-mismatched-new-delete)
endif()
# Asio's deprecated interfaces stay out of our code.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
