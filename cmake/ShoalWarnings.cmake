# Warnings are errors in our own code; third-party headers are SYSTEM includes.
add_compile_options(-Wall -Wextra -Wpedantic -Werror -Wno-missing-field-initializers)
# Asio's deprecated interfaces stay out of our code.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
