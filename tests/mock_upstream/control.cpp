#include "control.hpp"

#include "json_writer.hpp"
#include "responses.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace mock {

namespace http = boost::beast::http;

namespace {

int set_config(MockState& state, std::string& body, std::string& out) {
    rapidjson::Document doc;
    if (doc.ParseInsitu(body.data()).HasParseError()) {
        error_body(out, 400, std::string("invalid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
        return 400;
    }
    std::string error;
    if (!state.patch_behaviour(doc, error)) {
        error_body(out, 400, error);
        return 400;
    }
    JsonWriter w(out);
    state.write_behaviour(w);
    return 200;
}

}  // namespace

int handle_control(MockState& state, http::verb method, std::string_view path, std::string& body, std::string& out) {
    const bool get = method == http::verb::get, post = method == http::verb::post;
    if (path == "/__mock/config" && (get || post)) {
        if (post) return set_config(state, body, out);
        JsonWriter w(out);
        state.write_behaviour(w);
        return 200;
    }
    if (path == "/__mock/stats" && get) {
        JsonWriter w(out);
        state.write_stats(w);
        return 200;
    }
    if (path == "/__mock/reset" && post) {
        state.reset();
        JsonWriter w(out);
        state.write_behaviour(w);
        return 200;
    }
    if (path == "/__mock/health" && get) {
        out.append(R"({"status":"ok"})");
        return 200;
    }
    bool known = path == "/__mock/config" || path == "/__mock/stats" || path == "/__mock/reset" || path == "/__mock/health";
    int status = known ? 405 : 404;
    error_body(out, status, known ? "method not allowed" : "unknown control endpoint");
    return status;
}

}  // namespace mock
