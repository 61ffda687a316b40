// SuiteCloud CLI project configuration (https://github.com/oracle/netsuite-suitecloud-sdk).
// The SDF project proper (manifest.xml, deploy.xml, FileCabinet/, Objects/) lives under src/.
module.exports = {
  defaultProjectFolder: 'src',
  commands: {},
};
