// Who the dashboard acts as: the role and tenant of the stored key (or admin with auth off), and what that role may do.
import { useQuery } from '@tanstack/react-query';
import type { WhoAmI } from '../../../src/schemas/auth.ts';
import { get } from './client.ts';

export type Session = WhoAmI;
type Role = NonNullable<Session['role']>;

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function useSession() {
  return useQuery({ queryKey: ['session'], queryFn: () => get<Session>('/api/v1/auth/whoami'), staleTime: 60_000 });
}

/** Whether the session's role reaches `needed` (the same order the server checks: viewer < operator < admin). */
export function useCan(needed: Role): boolean {
  const role = useSession().data?.role;
  return role != null && RANK[role] >= RANK[needed];
}

/**
 * The header's "actor · role · tenant". A system key says "system" only with auth on: with auth off there are no
 * keys and no tenants to tell apart, so naming the system view would be noise.
 */
export function sessionLabel(session: Session | undefined): string {
  if (!session) return '';
  const parts = [session.actor, session.role ?? 'no key'];
  if (session.tenant) parts.push(session.tenant);
  else if (session.auth_enabled && session.role) parts.push('system');
  return parts.join(' · ');
}
