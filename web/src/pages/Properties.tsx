// The workspace's properties and communities, each linking to its page (tour calendar and tour settings).
import { label } from '../format';
import { useResource } from '../hooks';
import { Link } from '../router';
import { useSession } from '../session';
import type { Property } from '../types';
import { Empty, Loaded, PageHeader, Section, DataTable } from '../ui';

export function Properties() {
  const { api } = useSession();
  const properties = useResource(() => api.cached<{ properties: Property[] }>('/properties'), []);
  return (
    <>
      <PageHeader
        title="Properties"
        subtitle="Communities and apartment properties, with their tour calendars."
      />
      <Section title="All properties">
        <Loaded
          resource={properties}
          isEmpty={(d) => d.properties.length === 0}
          empty={<Empty title="No properties yet.">Create one with POST /api/v1/properties.</Empty>}
        >
          {(data) => (
            <DataTable
              label="Properties"
              testId="properties-table"
              rows={data.properties}
              rowKey={(p) => p.property_id}
              columns={[
                {
                  header: 'Name',
                  rowHeader: true,
                  cell: (p) => <Link to={`/properties/${encodeURIComponent(p.property_id)}`}>{p.name}</Link>,
                },
                { header: 'Kind', cell: (p) => label(p.vertical) },
                { header: 'Time zone', cell: (p) => p.timezone },
              ]}
            />
          )}
        </Loaded>
      </Section>
    </>
  );
}
