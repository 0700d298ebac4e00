#include "emulator/core/py_repr.hpp"

#include "http/message.hpp"

namespace shoal::emulator {

using json = nlohmann::json;

std::string PyRepr(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "None";
        case json::value_t::boolean:
            return v.get<bool>() ? "True" : "False";
        case json::value_t::string: {
            const auto& s = v.get_ref<const std::string&>();
            char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
            std::string out(1, quote);
            for (char ch : s) {
                if (ch == '\\') {
                    out += "\\\\";
                } else if (ch == quote) {
                    out += '\\';
                    out += ch;
                } else if (ch == '\n') {
                    out += "\\n";
                } else if (ch == '\t') {
                    out += "\\t";
                } else {
                    out += ch;
                }
            }
            out += quote;
            return out;
        }
        case json::value_t::array: {
            std::string out = "[";
            bool first = true;
            for (const auto& e : v) {
                if (!first) out += ", ";
                first = false;
                out += PyRepr(e);
            }
            return out + "]";
        }
        case json::value_t::object: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, e] : v.items()) {
                if (!first) out += ", ";
                first = false;
                out += PyRepr(json(k)) + ": " + PyRepr(e);
            }
            return out + "}";
        }
        default:
            return http::DumpJson(v);
    }
}

}  // namespace shoal::emulator
