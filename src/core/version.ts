/** The version of Evident: the CLI's --version, the API's OpenAPI info, receipts. */
export const VERSION = '0.1.0';
