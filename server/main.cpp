#include <exception>
#include <iostream>

#include "server/cli/commands.hpp"

int main(int argc, char** argv) {
  try {
    return apiproxy::cli_main(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "apiproxy: fatal: " << e.what() << "\n";
    return 1;
  }
}
