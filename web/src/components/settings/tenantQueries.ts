// The tenants list (system admins): one query shared by the Tenants panel and the API keys panel's tenant picker.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { TenantInfo } from '../../../../src/schemas/tenants.ts';
import { get } from '../../api/client.ts';

export function useTenants(enabled = true) {
  return useQuery({ queryKey: ['tenants'], queryFn: () => get<{ tenants: TenantInfo[] }>('/api/v1/tenants'), enabled });
}

/** After a change: the tenants (usage and quotas) and the audit log, which records every tenant change. */
export function useRefreshTenants(): () => Promise<void> {
  const client = useQueryClient();
  return async () => {
    await client.invalidateQueries({ queryKey: ['tenants'] });
    await client.invalidateQueries({ queryKey: ['audit'] });
  };
}
