import { describe, expect, it } from 'vitest';
import { tagSubjectName } from '../../src/cli/commands/tags.js';

// Kosli's `tag repo [NAME] --provider P | --repo-id ID` (cmd/kosli/tag.go): its checks and messages; in Evident a
// repository's id is its OWNER/REPO.

describe('the subject of kosli tag', () => {
  const none = { set: [], unset: [] };
  it('a repository by name, by name on a provider, or by --repo-id: the same OWNER/REPO subject', () => {
    expect(tagSubjectName('repo', 'acme/backend', none)).toBe('acme/backend');
    expect(tagSubjectName('repo', 'acme/backend', { ...none, provider: 'github' })).toBe('acme/backend');
    expect(tagSubjectName('repo', 'acme/backend', { ...none, provider: 'GitLab' })).toBe('acme/backend');
    expect(tagSubjectName('repo', undefined, { ...none, repoId: 'acme/backend' })).toBe('acme/backend');
    expect(tagSubjectName('environment', 'prod', none)).toBe('prod');
  });

  it("refuses what Kosli refuses, with Kosli's messages", () => {
    expect(() => tagSubjectName('environment', 'prod', { ...none, provider: 'github' })).toThrow('--provider is only valid when tagging repos');
    expect(() => tagSubjectName('control', 'c1', { ...none, repoId: 'x' })).toThrow('--repo-id is only valid when tagging repos');
    expect(() => tagSubjectName('repo', undefined, { ...none, provider: 'github', repoId: 'acme/backend' })).toThrow('--provider cannot be combined with --repo-id');
    expect(() => tagSubjectName('repo', 'acme/backend', { ...none, repoId: 'acme/backend' })).toThrow('exactly one of the RESOURCE-ID argument or --repo-id must be provided');
    expect(() => tagSubjectName('repo', undefined, none)).toThrow('the RESOURCE-ID argument is required unless tagging a repo with --repo-id');
    expect(() => tagSubjectName('repo', 'acme/backend', { ...none, provider: 'sourceforge' })).toThrow(/--provider "sourceforge": one of github, gitlab/);
  });
});
