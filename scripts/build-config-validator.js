'use strict';
// Part of `npm run build`, after tsc: compiles schemas/routes.schema.json with ajv once and writes the
// validator out as plain code, dist/config/routes-validator.js, so the gateway does not carry ajv's
// compiler and its ~25 MiB at run time. The module records the hash of the schema it was built from;
// the gateway compiles the schema itself if that no longer matches.
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020').default;
const standaloneCode = require('ajv/dist/standalone').default;

const dist = path.join(__dirname, '..', 'dist', 'config');
const { ROUTES_AJV_OPTIONS, routesSchemaHash } = require(path.join(dist, 'validate.js'));
const { routesSchema } = require(path.join(dist, 'schema.js'));

const ajv = new Ajv2020({ ...ROUTES_AJV_OPTIONS, code: { source: true } });
const validate = ajv.compile(routesSchema());
const code = standaloneCode(ajv, validate);
const out = `${code}\nmodule.exports.validate = module.exports;\nmodule.exports.schemaHash = ${JSON.stringify(routesSchemaHash())};\n`;
fs.writeFileSync(path.join(dist, 'routes-validator.js'), out);
