// Error bodies (control-plane shape and OpenAI's envelope): they live in the HTTP layer,
// which answers errors itself, in server/http/error_body.hpp. This header forwards there
// so that server/api code keeps including "server/api/errors.hpp".
#pragma once

#include "server/http/error_body.hpp"
