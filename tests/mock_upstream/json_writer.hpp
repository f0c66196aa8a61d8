// RapidJSON output straight into a std::string, so response bodies are built in place in
// a buffer the connection reuses (no intermediate StringBuffer copy per response).
#pragma once

#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace mock {

struct StringOutput {
    using Ch = char;
    std::string* out;
    void Put(char c) { out->push_back(c); }
    void Flush() {}
};

// The stream lives in a base class so it is constructed before the Writer that points at it.
struct StringOutputHolder {
    StringOutput stream;
};

class JsonWriter : private StringOutputHolder, public rapidjson::Writer<StringOutput> {
    using Base = rapidjson::Writer<StringOutput>;

public:
    explicit JsonWriter(std::string& out) : StringOutputHolder{StringOutput{&out}}, Base(stream) {}

    using Base::Key;
    bool Key(std::string_view k) { return Base::Key(k.data(), rapidjson::SizeType(k.size())); }
    bool Str(std::string_view s) { return Base::String(s.data(), rapidjson::SizeType(s.size())); }
};

}  // namespace mock
