#include "routes.hpp"

namespace mock {

namespace {

// The endpoint named by the path after the version/deployment prefix.
Endpoint endpoint_for(std::string_view rest) {
    if (rest == "/chat/completions") return Endpoint::chat;
    if (rest == "/completions") return Endpoint::completions;
    if (rest == "/embeddings") return Endpoint::embeddings;
    if (rest == "/models") return Endpoint::models;
    if (rest == "/messages") return Endpoint::messages;
    if (rest == "/responses") return Endpoint::responses;
    return Endpoint::unknown;
}

bool query_has_api_version(std::string_view query) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto item = query.substr(0, amp);
        if (item.starts_with("api-version=") && item.size() > 12) return true;
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return false;
}

Route route_azure(Route r) {
    constexpr std::string_view deployments = "/openai/deployments/";
    r.azure = true;
    if (r.path == "/openai/models") {
        r.endpoint = Endpoint::models;
        return r;
    }
    if (!r.path.starts_with(deployments)) return r;
    auto rest = r.path.substr(deployments.size());
    auto slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos) return r;
    r.deployment = rest.substr(0, slash);
    // No per-deployment model list, and the newer APIs are not served in this shape.
    auto e = endpoint_for(rest.substr(slash));
    bool deployment_api = e == Endpoint::chat || e == Endpoint::completions || e == Endpoint::embeddings;
    r.endpoint = deployment_api ? e : Endpoint::unknown;
    return r;
}

}  // namespace

Route route_api(std::string_view target) {
    Route r;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string_view::npos) r.has_api_version = query_has_api_version(target.substr(q + 1));
    if (r.path.starts_with("/openai/")) return route_azure(r);
    auto rest = r.path.starts_with("/v1/") ? r.path.substr(3) : r.path;
    r.endpoint = endpoint_for(rest);
    return r;
}

std::string_view endpoint_name(Endpoint e) {
    switch (e) {
        case Endpoint::models: return "models";
        case Endpoint::chat: return "chat";
        case Endpoint::completions: return "completions";
        case Endpoint::embeddings: return "embeddings";
        case Endpoint::messages: return "messages";
        case Endpoint::responses: return "responses";
        case Endpoint::unknown: break;
    }
    return "unknown";
}

bool is_control_path(std::string_view path) { return path.starts_with("/__mock/"); }

}  // namespace mock
